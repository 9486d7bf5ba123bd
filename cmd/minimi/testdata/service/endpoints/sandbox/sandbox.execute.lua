return {
  GET = function(req, res)
    local names = { "os", "io", "debug", "load", "loadstring", "dofile", "loadfile", "require_os", "string.dump", "print" }
    local out = {}
    out.os = os == nil
    out.io = io == nil
    out.debug = debug == nil
    out.load = load == nil
    out.loadstring = loadstring == nil
    out.dofile = dofile == nil
    out.loadfile = loadfile == nil
    out.string_dump = string.dump == nil
    out.require_os = not pcall(require, "os")
    res:json(out)
  end,
}
