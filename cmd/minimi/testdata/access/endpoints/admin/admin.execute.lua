return {
  GET = function(req, res) res:json({ area = "admin", client = req.client }) end,
}
