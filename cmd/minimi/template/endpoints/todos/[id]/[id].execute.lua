-- /todos/{id} works on the records of /todos, the nearest collection above.
-- PATCH and DELETE take "If-Match: <version>" (the _version you read, or the
-- ETag): if the todo changed since, the reply is 409 and nothing is written.

-- found returns the todo of the URL, or answers 404.
local function found(req)
  local todo = req.stash:get(req.params.id)
  if not todo then
    error({ status = 404, title = "Not Found", detail = "no todo " .. req.params.id })
  end
  return todo
end

-- ifMatch reads If-Match: 3 or "3"; nil without the header.
local function ifMatch(req)
  local h = req.headers["if-match"]
  if h == nil then return nil end
  local v = string.match(h, '^"?(%d+)"?$')
  if not v then
    error({ status = 400, title = "Bad Request", detail = "If-Match must be a version, like 3" })
  end
  return tonumber(v)
end

local function etag(todo) return '"' .. string.format("%d", todo._version) .. '"' end

return {
  GET = function(req, res)
    local todo = found(req)
    res:header("ETag", etag(todo)):json(todo)
  end,
  PATCH = function(req, res)
    local b = req.body or {}
    -- A field left out stays as it is; a missing todo is a 404.
    local todo = req.stash:patch(req.params.id, { title = b.title, done = b.done }, ifMatch(req))
    res:header("ETag", etag(todo)):json(todo)
  end,
  DELETE = function(req, res)
    local todo = found(req)
    local v = ifMatch(req)
    if v and v ~= todo._version then
      error({ status = 409, title = "Conflict", detail = "todo " .. todo.id .. " is at version " .. todo._version })
    end
    req.stash:delete(todo.id)
    res:status(204)
  end,
}
