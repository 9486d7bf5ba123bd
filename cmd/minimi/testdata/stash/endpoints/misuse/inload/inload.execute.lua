return { POST = function(req, res) res:status(201) end }
