return { GET = function() while true do end end }
