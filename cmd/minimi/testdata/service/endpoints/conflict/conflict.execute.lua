return { POST = function(req, res) error({ status = 409, title = "Conflict", detail = "already taken" }) end }
