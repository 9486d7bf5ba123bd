-- POST /login {email, password} answers {token}: send it back as
-- "Authorization: Bearer <token>". /login has no collection of its own, so
-- stash.at reaches the users.
local TTL = 3600 -- seconds

-- Checking a password takes the same time whether or not the email exists,
-- so that the reply's timing does not tell which emails have accounts.
local dummy

local function passwordMatches(user, plain)
  if not user then
    dummy = dummy or auth.hash("no such user, no such password")
    auth.verify(dummy, plain)
    return false
  end
  return auth.verify(user.password, plain)
end

return {
  POST = function(req, res)
    local b = req.body or {}
    if type(b.email) ~= "string" or type(b.password) ~= "string" then
      return res:error(400, 'send {"email": "...", "password": "..."}')
    end
    local found = stash.at("/users"):list({ where = { email = string.lower(b.email) }, limit = 1, hidden = true })
    local user = found[1]
    if not passwordMatches(user, b.password) then
      return res:error(401, "wrong email or password")
    end
    emit("user.logged_in", { id = user.id })
    res:json({ token = auth.sign({ sub = user.id, email = user.email }, TTL), expires_in = TTL })
  end,
}
