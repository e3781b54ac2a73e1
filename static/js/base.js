// Page-wide behaviour without inline handlers (the Content-Security-Policy forbids them):
// a select marked data-autosubmit submits its form when changed.
document.addEventListener("change", function (e) {
  const select = e.target.closest && e.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
