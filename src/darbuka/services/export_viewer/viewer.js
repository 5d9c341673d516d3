// Shows window.DARBUKA_EXPORT (data.js) with text nodes only: every name and message is
// the person's own or another's words, and none of it is ever parsed as HTML.
"use strict";
(function () {
  var data = window.DARBUKA_EXPORT;
  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function when(ms) {
    return new Date(ms).toISOString().replace("T", " ").slice(0, 16);
  }
  if (!data) {
    document.body.appendChild(el("p", "data.js is missing from this folder."));
    return;
  }
  var profile = document.getElementById("profile");
  var me = data.profile;
  profile.appendChild(el("h2", "Profile"));
  [["Name", me.display_name], ["Username", me.username ? "@" + me.username : ""],
   ["Phone", me.phone], ["About", me.about], ["Since", when(me.created_at)]]
    .forEach(function (row) {
      if (row[1]) profile.appendChild(el("p", row[0] + ": " + row[1]));
    });
  var byChat = {};
  data.messages.forEach(function (m) {
    (byChat[m.chat_id] = byChat[m.chat_id] || []).push(m);
  });
  var list = document.getElementById("chats");
  list.appendChild(el("h2", "Chats (" + data.chats.length + ") and what you wrote in them"));
  data.chats.forEach(function (chat) {
    var box = el("section");
    box.className = "chat";
    box.appendChild(el("h2", (chat.title || "Direct chat") + " — " + chat.kind + ", " +
                             chat.role));
    (byChat[chat.id] || []).forEach(function (m) {
      var line = el("div");
      line.className = "msg";
      var stamp = el("span", when(m.created_at));
      stamp.className = "when";
      line.appendChild(stamp);
      line.appendChild(document.createTextNode(m.text || ""));
      var file = m.media && data.files[m.media.id];
      if (file) {
        var link = el("a", " [" + (m.kind || "file") + "]");
        file = file.split("/").map(encodeURIComponent).join("/");
        link.setAttribute("href", file);
        if (m.kind === "photo") {
          var img = el("img");
          img.setAttribute("src", file);
          img.setAttribute("alt", "");
          link.appendChild(img);
        }
        line.appendChild(link);
      }
      box.appendChild(line);
    });
    list.appendChild(box);
  });
})();
