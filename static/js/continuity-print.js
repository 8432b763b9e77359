// The print view's "Print" button: the browser's print dialog, which the print stylesheet lays out for paper.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
