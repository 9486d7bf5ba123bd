return {
  GET = function(req, res) res:json({ area = "admin/panel", client = req.client }) end,
}
