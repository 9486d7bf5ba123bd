return {
  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,
  GET = function(req, res) res:json(req.stash:list()) end,
}
