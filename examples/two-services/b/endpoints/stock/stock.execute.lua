return {
  GET = function(req, res) res:json(req.stash:list({ limit = 100 })) end,
  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,
}
