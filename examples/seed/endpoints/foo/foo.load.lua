-- Runs for /foo and everything below it, after the root's load processor.
return {
  routes = function()
    return {
      ["/*"] = function(req, res)
        table.insert(req.state.trace, "load /foo")
      end,
    }
  end,
}
