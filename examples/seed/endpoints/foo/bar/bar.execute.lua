return {
  GET = function(req, res)
    table.insert(req.state.trace, "execute /foo/bar")
    res:json({ path = req.path, phases = req.state.trace })
  end,
  POST = function(req, res)
    res:status(201):json({ received = req.body })
  end,
}
