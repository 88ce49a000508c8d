-- Neovim's built-in LSP client drives `scimap lsp` (cargo xtask nvim): it opens a broken
-- mapping and writes what it got back — the diagnostics, a completion list and the buffer after
-- formatting — as JSON to $SCIMAP_OUT, which the xtask checks. Neovim 0.7 or later, headless:
--   SCIMAP_BIN=… SCIMAP_MAPPING=… SCIMAP_OUT=… nvim --headless --clean -c "luafile lsp.lua"
local bin, mapping, out = os.getenv("SCIMAP_BIN"), os.getenv("SCIMAP_MAPPING"), os.getenv("SCIMAP_OUT")
-- A generous no-hang guard in milliseconds, never a timed assertion.
local GUARD = 60000

local function finish(result)
  local file = assert(io.open(out, "w"))
  file:write(vim.fn.json_encode(result))
  file:close()
  vim.cmd(result.error and "cquit 1" or "qall!")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(mapping))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = "scimap"
  local client_id = vim.lsp.start_client({
    name = "scimap",
    cmd = { bin, "lsp" },
    root_dir = vim.fn.fnamemodify(mapping, ":h"),
  })
  assert(client_id, "the client started")
  vim.lsp.buf_attach_client(buf, client_id)

  -- Diagnostics arrive on their own after didOpen.
  assert(vim.wait(GUARD, function() return #vim.diagnostic.get(buf) > 0 end, 20), "no diagnostics")
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(diagnostics, {
      line = d.lnum, col = d.col, severity = d.severity, message = d.message,
      code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code),
    })
  end

  -- Completion inside `displayname` (line 3, after `disp`).
  local line = vim.api.nvim_buf_get_lines(buf, 2, 3, true)[1]
  local col = line:find("displayname", 1, true) + 3
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = { line = 2, character = col },
  }
  local responses = vim.lsp.buf_request_sync(buf, "textDocument/completion", params, GUARD)
  assert(responses, "no completion response")
  local labels = {}
  for _, response in pairs(responses) do
    assert(not response.err, vim.inspect(response.err))
    local items = response.result.items or response.result
    for _, item in ipairs(items) do table.insert(labels, item.label) end
  end

  -- Formatting, applied to the buffer by the client.
  vim.lsp.buf.formatting_sync(nil, GUARD)
  local formatted = vim.api.nvim_buf_get_lines(buf, 0, -1, true)

  finish({ diagnostics = diagnostics, completion = labels, formatted = formatted })
end)
if not ok then finish({ error = tostring(err) }) end
