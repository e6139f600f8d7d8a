// Copy install.json into the built extension: `jupyter labextension list` then names the Python package.
import { copyFileSync } from 'node:fs';
copyFileSync('install.json', 'dist/install.json');
