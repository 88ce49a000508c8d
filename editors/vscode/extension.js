// The scimap extension: starts `scimap lsp` for .scimap files and hands it the settings
// (reference §editors-vscode). Every feature is the server's; this file only connects them.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("scimap");
  return {
    userRecord: config.get("userRecord") || undefined,
    groupRecord: config.get("groupRecord") || undefined,
  };
}

function activate(context) {
  const command = vscode.workspace.getConfiguration("scimap").get("path") || "scimap";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "scimap",
    "scimap",
    { run: server, debug: server },
    {
      documentSelector: [{ language: "scimap" }],
      initializationOptions: settings(),
      // Sends `workspace/didChangeConfiguration` with the `scimap` settings when they change.
      synchronize: { configurationSection: "scimap" },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
