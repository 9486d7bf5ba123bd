return {
  GET = function(req, res) res:json({ instance = req.config.instance, id = req.id }) end,
}
