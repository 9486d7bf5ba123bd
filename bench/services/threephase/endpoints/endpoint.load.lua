-- Load phase, root folder: runs for every URL of the service.
return {
  routes = function()
    return { ["/*"] = function(req) req.state.n = 1 end }
  end,
}
