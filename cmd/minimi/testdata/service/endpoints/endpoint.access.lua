return { routes = function() return { ["/*"] = function(req) table.insert(req.state.trace, "access /") end } end }
