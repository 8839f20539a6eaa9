// Drag and drop on the upload form (progressive enhancement): a file dropped on the frame
// is put in the form's file input, which still works alone, with or without JavaScript.
(function () {
  for (const zone of document.querySelectorAll('[data-dropzone]')) {
    const input = zone.querySelector('input[type=file]');
    const status = zone.querySelector('.pilot-drop-status');
    if (!input || typeof DataTransfer === 'undefined') continue;
    const over = (on) => zone.classList.toggle('pilot-dropzone--over', on);
    zone.addEventListener('dragover', (event) => { event.preventDefault(); over(true); });
    zone.addEventListener('dragleave', () => over(false));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      over(false);
      const files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length === 0) return;
      const chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      if (status) status.textContent = 'Fichier choisi : ' + files[0].name + '. Cliquez sur « Vérifier le classeur ».';
    });
    input.addEventListener('change', () => {
      if (status && input.files.length) status.textContent = 'Fichier choisi : ' + input.files[0].name + '.';
    });
  }
})();
