return {
  GET = function(req, res)
    error("secret internal detail")
  end,
}
