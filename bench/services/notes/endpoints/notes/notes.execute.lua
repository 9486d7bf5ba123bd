-- POST /notes: a durable command; the reply waits for the fsynced commit.
return {
  POST = function(req, res)
    res:status(201):json(req.stash:create(req.body or {}))
  end,
}
