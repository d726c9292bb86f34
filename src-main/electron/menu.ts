import { app, Menu, type MenuItemConstructorOptions } from 'electron'

/**
 * A plain application menu (File, Edit, View, Window, Help; the roles bring the platform's accelerators): no remote
 * content, DevTools only in development builds.
 */
export function installApplicationMenu(isDevelopment: boolean): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload', accelerator: 'CmdOrCtrl+R' },
        ...(isDevelopment ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [{ label: 'About Lectern', click: () => app.showAboutPanel() }],
    },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}
