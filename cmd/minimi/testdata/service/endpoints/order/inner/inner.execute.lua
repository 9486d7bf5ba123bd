local fmt = require("fmt")
return { GET = function(req, res) res:json({ trace = req.state.trace, joined = fmt.join(req.state.trace) }) end }
