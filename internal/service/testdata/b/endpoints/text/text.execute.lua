return {
  GET = function(req, res) res:send("plain text") end,
}
