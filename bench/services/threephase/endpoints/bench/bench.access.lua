-- Access phase of /bench.
return {
  GET = function(req) req.state.n = req.state.n + 1 end,
}
