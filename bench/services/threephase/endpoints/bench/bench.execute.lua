-- Execute phase of /bench: the same reply as the chi baseline, {"n":2,"ok":true}.
return {
  GET = function(req, res) res:json({ ok = true, n = req.state.n }) end,
}
