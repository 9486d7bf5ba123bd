return {
  GET = function(req, res) res:json({ client = req.client or "none" }) end,
  POST = function(req, res) res:json({ client = req.client or "none", body = req.body }) end,
}
