return { routes = function() return { ["/*"] = function(req) table.insert(req.state.trace, "load /order") end } end }
