return {
  GET = function(req, res)
    table.insert(req.state.trace, "load /foo/bar")
  end,
}
