-- /users/login uses the /users collection (nearest ancestor) and verifies the hash.
return {
  POST = function(req, res)
    local found = req.stash:list({ where = { email = string.lower(req.body.email) }, hidden = true })
    local user = found[1]
    if not user or not auth.verify(user.password, req.body.password) then
      return res:error(401, "wrong email or password")
    end
    res:json({ id = user.id, email = user.email })
  end,
}
