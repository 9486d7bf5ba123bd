return { routes = function() return { ["/*"] = function(req) table.insert(req.state.trace, "load (admin)") end } end }
