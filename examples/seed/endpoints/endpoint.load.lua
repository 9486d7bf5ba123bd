-- The root load processor runs first for every request of the service.
return {
  routes = function()
    return {
      ["/*"] = function(req, res)
        req.state.trace = { "load /" }
        req.state.started = time.now()
      end,
    }
  end,
}
