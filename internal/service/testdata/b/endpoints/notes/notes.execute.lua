return {
  GET = function(req, res) res:json({ items = req.stash:list({ limit = 50 }), count = req.stash:count() }) end,
  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,
}
