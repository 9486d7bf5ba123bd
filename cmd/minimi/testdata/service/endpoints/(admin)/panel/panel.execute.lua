return { GET = function(req, res) res:json({ trace = req.state.trace }) end }
