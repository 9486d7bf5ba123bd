-- Writes in a GET are refused: GET is a query.
return { GET = function(req, res) stash.at("/notes"):create({ title = "nope" }) end }
