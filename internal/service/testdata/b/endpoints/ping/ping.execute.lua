return {
  GET = function(req, res) res:json({ pong = true }) end,
}
