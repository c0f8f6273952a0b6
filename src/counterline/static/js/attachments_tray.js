// Files and pictures waiting to go with the next message: picked with the attach button,
// pasted (a screenshot: clipboard files when the clipboard holds no text) or dropped on the
// page. Server contract: POST /api/v1/uploads, multipart/form-data with the field "file" and
// the header X-CSRF-Token, answers 201 {id, name, content_type, size, kind: "image"|"file",
// url, thumbnail_url|null, width, height, thumb_width, thumb_height}, or 4xx {"error"} (413
// too large, 415 type refused, 400 empty) shown beside the file. XMLHttpRequest, not fetch,
// because only it reports upload progress. Files over boot.max_upload_bytes are refused here
// before they are sent. The message then carries the stored ones' ids ("attachments").

const UNITS = ["B", "KB", "MB", "GB"];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${UNITS[unit]}`;
}

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

export class AttachmentTray {
  constructor({ list, fileInput, dropZone, box, csrfToken, maxBytes, strings, onChange }) {
    Object.assign(this, { list, fileInput, dropZone, box, csrfToken, maxBytes, strings, onChange });
    this.items = [];
    this.dragTimer = 0;
  }

  attach() {
    this.list.setAttribute("aria-label", this.strings.tray_label);
    this.fileInput.addEventListener("change", () => {
      this.addFiles(this.fileInput.files);
      this.fileInput.value = "";
    });
    this.box.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data || !data.files.length) return;
      // Cells copied from a spreadsheet come as text and as a picture: keep the text.
      if ([...data.types].includes("text/plain")) return;
      event.preventDefault();
      this.addFiles(data.files);
    });
    // Dragging files anywhere over the page shows the drop zone; dropping them anywhere
    // attaches them (instead of the browser leaving the chat to open the file).
    const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    document.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      this.dropZone.classList.add("drop-ready");
      clearTimeout(this.dragTimer);
      this.dragTimer = setTimeout(() => this.dropZone.classList.remove("drop-ready"), 200);
    });
    document.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      clearTimeout(this.dragTimer);
      this.dropZone.classList.remove("drop-ready");
      this.addFiles(event.dataTransfer.files);
      this.box.focus();
    });
  }

  pick() {
    this.fileInput.click();
  }

  /** Uploads stored by the server, in the order they were added. */
  get uploads() {
    return this.items.filter((item) => item.upload).map((item) => item.upload);
  }

  get busy() {
    return this.items.some((item) => item.xhr);
  }

  addFiles(files) {
    for (const file of files) {
      const item = this.addItem({ name: file.name || "file", size: file.size, image: file.type.startsWith("image/") });
      if (item.image) this.showThumbnail(item, URL.createObjectURL(file), true);
      if (file.size > this.maxBytes) {
        this.fail(item, fill(this.strings.upload_too_large, {
          name: item.name, size: formatSize(file.size), max: formatSize(this.maxBytes),
        }));
      } else {
        this.upload(item, file);
      }
    }
    this.changed();
  }

  addItem({ name, size, image }) {
    const row = document.createElement("li");
    row.className = `tray-item ${image ? "is-image" : "is-file"}`;
    const thumb = document.createElement("span");
    thumb.className = "tray-thumb";
    thumb.setAttribute("aria-hidden", "true");
    const text = document.createElement("span");
    text.className = "tray-text";
    const nameLine = document.createElement("span");
    nameLine.className = "tray-name";
    nameLine.textContent = name;
    nameLine.title = name;
    const sizeLine = document.createElement("span");
    sizeLine.className = "tray-size";
    sizeLine.textContent = formatSize(size);
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.setAttribute("aria-label", fill(this.strings.upload_progress, { name }));
    progress.hidden = true;
    const error = document.createElement("span");
    error.className = "tray-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    text.append(nameLine, sizeLine, progress, error);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "tray-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", fill(this.strings.upload_remove, { name }));
    row.append(thumb, text, remove);
    this.list.append(row);
    const item = { name, size, image, row, thumb, sizeLine, progress, error, remove, upload: null, xhr: null, objectUrl: null };
    remove.addEventListener("click", () => this.removeItem(item, true));
    this.items.push(item);
    return item;
  }

  showThumbnail(item, src, local = false) {
    let img = item.thumb.querySelector("img");
    if (!img) {
      img = document.createElement("img");
      img.alt = "";
      item.thumb.append(img);
    }
    img.src = src;
    if (item.objectUrl && !local) {
      URL.revokeObjectURL(item.objectUrl);
      item.objectUrl = null;
    }
    if (local) item.objectUrl = src;
  }

  upload(item, file) {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    item.row.classList.add("uploading");
    item.progress.hidden = false;
    item.progress.removeAttribute("value"); // indeterminate until the first progress event
    item.remove.setAttribute("aria-label", fill(this.strings.upload_cancel, { name: item.name }));
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) item.progress.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data && data.id !== undefined) this.stored(item, data);
      else this.fail(item, (data && data.error) || this.strings.error);
    });
    xhr.addEventListener("error", () => this.fail(item, this.strings.error));
    xhr.open("POST", "/api/v1/uploads");
    xhr.setRequestHeader("X-CSRF-Token", this.csrfToken);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", document.documentElement.lang || "zh-CN");
    const form = new FormData();
    form.append("file", file, item.name);
    xhr.send(form);
  }

  stored(item, upload) {
    item.xhr = null;
    item.upload = upload;
    item.row.classList.remove("uploading");
    item.row.classList.add("done");
    item.progress.value = 100;
    item.progress.hidden = true;
    item.remove.setAttribute("aria-label", fill(this.strings.upload_remove, { name: item.name }));
    if (upload.thumbnail_url) this.showThumbnail(item, upload.thumbnail_url);
    else if (item.image && !item.objectUrl) this.showThumbnail(item, upload.url);
    this.changed();
  }

  fail(item, message) {
    item.xhr = null;
    item.row.classList.remove("uploading");
    item.row.classList.add("failed");
    item.progress.hidden = true;
    item.error.textContent = message;
    item.error.hidden = false;
    item.remove.setAttribute("aria-label", fill(this.strings.upload_remove, { name: item.name }));
    this.changed();
  }

  removeItem(item, focusBox = false) {
    if (item.xhr) item.xhr.abort();
    if (item.objectUrl) URL.revokeObjectURL(item.objectUrl);
    item.row.remove();
    this.items = this.items.filter((other) => other !== item);
    this.changed();
    if (focusBox) this.box.focus();
  }

  /** After sending: the tray empties (failed ones too: they were shown as failed). */
  clear() {
    for (const item of [...this.items]) this.removeItem(item);
  }

  /** The server refused the message: its stored uploads come back to the tray. */
  restore(uploads) {
    for (const upload of uploads) {
      const item = this.addItem({ name: upload.name, size: upload.size, image: upload.kind === "image" });
      this.stored(item, upload);
    }
    this.changed();
  }

  changed() {
    this.list.hidden = this.items.length === 0;
    this.onChange();
  }
}
