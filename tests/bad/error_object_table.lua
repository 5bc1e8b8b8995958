-- error() with a table
-- expect: 1 error_object_table.lua:3: (error object is a table value)
error({ code = 1 })
