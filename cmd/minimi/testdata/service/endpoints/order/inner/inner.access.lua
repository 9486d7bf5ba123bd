return { GET = function(req) table.insert(req.state.trace, "access /order/inner") end }
