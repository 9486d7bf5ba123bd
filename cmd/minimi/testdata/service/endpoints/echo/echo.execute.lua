return { POST = function(req, res) res:status(201):json({ body = req.body, greeting = req.config.greeting }) end }
