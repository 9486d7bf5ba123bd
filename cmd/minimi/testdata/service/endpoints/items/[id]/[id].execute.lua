return {
  GET = function(req, res) res:json({ id = req.params.id, sort = req.query.sort }) end,
  DELETE = function(req, res) res:status(204) end,
}
