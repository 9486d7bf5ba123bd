-- POST /users signs up. The schema does the work: the email is lowercased and
-- unique (a second sign-up with it is a 409), the password is stored as an
-- argon2id hash and left out of every read, so the reply never shows it.
return {
  POST = function(req, res)
    local b = req.body or {}
    -- Only these fields: a client cannot pick its id or any _field.
    local user = req.stash:create({ email = b.email, password = b.password, name = b.name })
    emit("user.signed_up", { id = user.id })
    res:status(201):json(user)
  end,
}
