return {
  POST = function(req, res) res:status(201):json(req.stash:create(req.body)) end,
  GET = function(req, res) res:json({ count = req.stash:count(), notes = stash.at("/notes"):count() }) end,
}
