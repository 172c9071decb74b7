// Office.js members that the installed @types/office-js (1.0.612) does not declare yet: merged into its global
// namespaces. Remove a member once the typings have it.

declare namespace Excel {
  interface Workbook {
    /** True if the workbook uses the 1904 date system (old Mac workbooks: serial 0 is 1904-01-01).
     * [Api set: ExcelApi 1.16] */
    use1904DateSystem: boolean;
  }
}
