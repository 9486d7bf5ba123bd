-- /todos/{id} works on the records of /todos, the nearest collection above.
-- PATCH and DELETE take "If-Match: <version>" (the _version you read, or the
-- ETag): if the todo changed since, the reply is 409 and nothing is written;
-- a value that is not a version is 412.

-- found returns the todo of the URL, or answers 404.
local function found(req)
  local todo = req.stash:get(req.params.id)
  if not todo then
    error({ status = 404, title = "Not Found", detail = "no todo " .. req.params.id })
  end
  return todo
end

-- ifMatch reads If-Match: 3 or "3" (the ETag) as the version the write is
-- based on; nil (any version) without the header or with "*". A version no
-- todo is at (0) is a 409 like a stale one. Another value (W/"3", "latest")
-- is no version of a todo: the precondition cannot hold, so the reply is
-- 412 and nothing is written.
local function ifMatch(req)
  local h = req.headers["if-match"]
  if h == nil or h == "*" then return nil end
  -- Too many digits read as a huge number, which no todo is at: a 409, not a skipped check.
  local v = tonumber(string.match(h, '^(%d+)$') or string.match(h, '^"(%d+)"$') or "")
  if not v then
    error({ status = 412, title = "Precondition Failed", detail = 'If-Match must be a version of the todo, like "3"' })
  end
  return v
end

-- body is the request's JSON object, or {} without a body; another JSON
-- value (an array, a string, a number) is a 422.
local function body(req)
  local b = req.body
  if b == nil then return {} end
  if type(b) ~= "table" or b[1] ~= nil then
    error({ status = 422, title = "Unprocessable Entity", detail = "the body must be a JSON object" })
  end
  return b
end

local function etag(todo) return '"' .. string.format("%d", todo._version) .. '"' end

return {
  GET = function(req, res)
    local todo = found(req)
    res:header("ETag", etag(todo)):json(todo)
  end,
  PATCH = function(req, res)
    local b = body(req)
    -- A field left out stays as it is; a missing todo is a 404.
    local todo = req.stash:patch(req.params.id, { title = b.title, done = b.done }, ifMatch(req))
    res:header("ETag", etag(todo)):json(todo)
  end,
  DELETE = function(req, res)
    local todo = found(req)
    req.stash:delete(todo.id, ifMatch(req)) -- a stale version is a 409
    res:status(204)
  end,
}
