return {
  GET = function(req, res) res:json({ trace = req.state.trace }) end,
  routes = function() return { ["/*"] = function(req) table.insert(req.state.trace, "execute /order") end } end,
}
