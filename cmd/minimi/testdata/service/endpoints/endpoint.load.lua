return { routes = function() return { ["/*"] = function(req) req.state.trace = { "load /" } end } end }
