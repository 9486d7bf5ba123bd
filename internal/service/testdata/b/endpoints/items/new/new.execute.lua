return {
  GET = function(req, res) res:json({ new = true }) end,
}
