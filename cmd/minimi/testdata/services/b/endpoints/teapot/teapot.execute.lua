return {
  GET = function(req, res) error({ status = 409, detail = "already taken" }) end,
}
