/** Stylesheets are bundled by esbuild into app.css; importing one only says it belongs to the page. */
declare module '*.css';
