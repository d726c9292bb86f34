import { posix } from 'node:path'
import { DomUtils, parseDocument } from 'htmlparser2'
import { ZipArchive, ZipArchiveError } from '../archive/ZipArchive.js'
import { decodeHtml, htmlToBlocks } from './readHtml.js'
import type { ExtractedBlock, ExtractedDocument, ExtractOptions, FormatReader } from './types.js'
import { UnreadableFileError } from './UnreadableFileError.js'

type XmlDocument = ReturnType<typeof parseDocument>
type XmlElement = Parameters<typeof DomUtils.getAttributeValue>[0]

const CONTAINER_PATH = 'META-INF/container.xml'
const ENCRYPTION_PATH = 'META-INF/encryption.xml'
const PACKAGE_MEDIA_TYPE = 'application/oebps-package+xml'
const NCX_MEDIA_TYPE = 'application/x-dtbncx+xml'
const CHAPTER_MEDIA_TYPES = new Set(['application/xhtml+xml', 'text/html'])
/** Font obfuscation (IDPF, Adobe) scrambles embedded fonts only; it is not DRM and leaves the text readable. */
const FONT_OBFUSCATION_ALGORITHMS = new Set(['http://www.idpf.org/2008/embedding', 'http://ns.adobe.com/pdf/enc#RC'])

interface ManifestItem {
  id: string
  /** Path inside the archive, resolved against the package document's folder and percent-decoded. */
  path: string
  mediaType: string
  properties: string[]
}

interface PackageDocument {
  title?: string
  manifest: Map<string, ManifestItem>
  spine: ManifestItem[]
  navigation?: ManifestItem
  ncx?: ManifestItem
}

/**
 * Reads an EPUB (2 or 3): the chapters of the spine in reading order, each chapter's blocks labelled with its
 * title from the table of contents (else its first heading, its `<title>`, or its file name). The book's title
 * comes from the package metadata.
 */
export const readEpub: FormatReader = async function* readEpub(source, options) {
  const archive = await openEpubArchive(source.displayPath, await source.readAll(), options)
  try {
    const packagePath = await findPackagePath(archive, source.displayPath)
    const book = parsePackage(await readXml(archive, packagePath), packagePath)
    await refuseDrm(archive, book, source.displayPath)
    const tocTitles = await readTableOfContents(archive, book)

    const blocks: ExtractedBlock[] = []
    const warnings = archive.rejectedEntries.map((entry) => `archive member ${entry.name} skipped: ${entry.reason}`)
    for (const chapter of book.spine) {
      options.signal?.throwIfAborted()
      // The navigation document lists the chapters; its text would only repeat their titles.
      if (chapter === book.navigation || !CHAPTER_MEDIA_TYPES.has(chapter.mediaType)) continue
      const entryName = findEntry(archive, chapter.path)
      if (entryName === undefined) {
        warnings.push(`chapter ${chapter.path} is listed but missing from the archive`)
        continue
      }
      const decoded = decodeHtml(await archive.readEntry(entryName), `${source.displayPath}!/${entryName}`)
      warnings.push(...decoded.warnings.map((warning) => `${chapter.path}: ${warning}`))
      const chapterText = htmlToBlocks(decoded.text, { xml: chapter.mediaType === 'application/xhtml+xml', keepWholeBody: true })
      const section =
        tocTitles.get(chapter.path) ?? chapterText.blocks.find((block) => block.section !== undefined)?.section ?? chapterText.title ?? posix.basename(chapter.path)
      for (const block of chapterText.blocks) blocks.push({ ...block, section })
    }
    if (blocks.length === 0) throw new UnreadableFileError(source.displayPath, 'EPUB has no text in its chapters (images only?)')

    const document: ExtractedDocument = { locator: '', blocks }
    if (book.title !== undefined) document.title = book.title
    if (warnings.length > 0) document.warnings = warnings
    yield document
  } finally {
    archive.close()
  }
}

async function openEpubArchive(displayPath: string, bytes: Uint8Array, options: ExtractOptions): Promise<ZipArchive> {
  try {
    return await ZipArchive.fromBytes(bytes, { displayPath, limits: options.limits, signal: options.signal })
  } catch (error) {
    if (error instanceof ZipArchiveError && (error.kind === 'not_zip' || error.kind === 'damaged')) {
      throw new UnreadableFileError(displayPath, `not a valid EPUB: ${error.message}`, { cause: error })
    }
    throw error
  }
}

async function findPackagePath(archive: ZipArchive, displayPath: string): Promise<string> {
  const containerEntry = findEntry(archive, CONTAINER_PATH)
  if (containerEntry === undefined) throw new UnreadableFileError(displayPath, `not a valid EPUB: ${CONTAINER_PATH} missing`)
  const rootfiles = elementsNamed(await readXml(archive, containerEntry), 'rootfile')
  const rootfile = rootfiles.find((element) => element.attribs['media-type'] === PACKAGE_MEDIA_TYPE) ?? rootfiles[0]
  const fullPath = rootfile?.attribs['full-path']
  if (fullPath === undefined || fullPath === '') {
    throw new UnreadableFileError(displayPath, `not a valid EPUB: ${CONTAINER_PATH} names no package document`)
  }
  // full-path is relative to the archive root, never to META-INF.
  const packagePath = findEntry(archive, resolveHref('', fullPath) ?? fullPath)
  if (packagePath === undefined) throw new UnreadableFileError(displayPath, `not a valid EPUB: package document ${fullPath} missing`)
  return packagePath
}

function parsePackage(opf: XmlDocument, packagePath: string): PackageDocument {
  const folder = posix.dirname(packagePath) === '.' ? '' : posix.dirname(packagePath)
  const manifest = new Map<string, ManifestItem>()
  for (const element of elementsNamed(opf, 'item')) {
    const { id, href } = element.attribs
    const path = href === undefined ? undefined : resolveHref(folder, href)
    if (id === undefined || path === undefined) continue
    const properties = (element.attribs.properties ?? '').split(/\s+/).filter((property) => property !== '')
    manifest.set(id, { id, path, mediaType: (element.attribs['media-type'] ?? '').toLowerCase(), properties })
  }
  const spineElement = elementsNamed(opf, 'spine')[0]
  const spine = elementsNamed(opf, 'itemref')
    .map((element) => manifest.get(element.attribs.idref ?? ''))
    .filter((item): item is ManifestItem => item !== undefined)
  const titleElement = elementsNamed(opf, 'title')[0]
  const title = titleElement === undefined ? '' : DomUtils.textContent(titleElement).trim()

  const book: PackageDocument = { manifest, spine }
  if (title !== '') book.title = title
  const navigation = [...manifest.values()].find((item) => item.properties.includes('nav'))
  if (navigation !== undefined) book.navigation = navigation
  const ncx = manifest.get(spineElement?.attribs.toc ?? '') ?? [...manifest.values()].find((item) => item.mediaType === NCX_MEDIA_TYPE)
  if (ncx !== undefined) book.ncx = ncx
  return book
}

/** Refuses books whose chapters are encrypted; encryption.xml URIs are relative to the archive root. */
async function refuseDrm(archive: ZipArchive, book: PackageDocument, displayPath: string): Promise<void> {
  const entry = findEntry(archive, ENCRYPTION_PATH)
  if (entry === undefined) return
  const chapterPaths = new Set(book.spine.map((item) => item.path.toLowerCase()))
  for (const encrypted of elementsNamed(await readXml(archive, entry), 'encrypteddata')) {
    const method = elementsNamed(encrypted, 'encryptionmethod')[0]?.attribs.Algorithm ?? ''
    if (FONT_OBFUSCATION_ALGORITHMS.has(method)) continue
    const uri = elementsNamed(encrypted, 'cipherreference')[0]?.attribs.URI
    const path = uri === undefined ? undefined : resolveHref('', uri)
    if (path !== undefined && chapterPaths.has(path.toLowerCase())) throw new UnreadableFileError(displayPath, 'EPUB is DRM-encrypted')
  }
}

/** Chapter titles by file path, from the EPUB 3 navigation document or else the EPUB 2 NCX. */
async function readTableOfContents(archive: ZipArchive, book: PackageDocument): Promise<Map<string, string>> {
  const titles = new Map<string, string>()
  const add = (folder: string, href: string | undefined, label: string): void => {
    const path = href === undefined ? undefined : resolveHref(folder, href)
    const title = label.replace(/\s+/g, ' ').trim()
    if (path !== undefined && title !== '' && !titles.has(path)) titles.set(path, title)
  }
  const navigationEntry = book.navigation === undefined ? undefined : findEntry(archive, book.navigation.path)
  if (book.navigation !== undefined && navigationEntry !== undefined) {
    const navigation = await readXml(archive, navigationEntry)
    const navs = elementsNamed(navigation, 'nav')
    const toc = navs.find((nav) => /\btoc\b/.test(nav.attribs['epub:type'] ?? '')) ?? navs[0]
    const folder = posix.dirname(book.navigation.path)
    for (const anchor of toc === undefined ? [] : elementsNamed(toc, 'a')) add(folder, anchor.attribs.href, DomUtils.textContent(anchor))
  }
  const ncxEntry = book.ncx === undefined ? undefined : findEntry(archive, book.ncx.path)
  if (titles.size === 0 && book.ncx !== undefined && ncxEntry !== undefined) {
    const folder = posix.dirname(book.ncx.path)
    for (const point of elementsNamed(await readXml(archive, ncxEntry), 'navpoint')) {
      const label = point.children.find((child): child is XmlElement => 'name' in child && localName(child.name) === 'navlabel')
      const content = point.children.find((child): child is XmlElement => 'name' in child && localName(child.name) === 'content')
      add(folder, content?.attribs.src, label === undefined ? '' : DomUtils.textContent(label))
    }
  }
  return titles
}

/**
 * An href as an archive path: fragment and query dropped, percent-decoded, resolved against `folder`.
 * Undefined for external links and for paths that climb out of the archive.
 */
function resolveHref(folder: string, href: string): string | undefined {
  const withoutFragment = href.replace(/[#?].*$/s, '')
  if (withoutFragment === '' || /^[a-z][a-z0-9+.-]*:/i.test(withoutFragment)) return undefined
  let decoded: string
  try {
    decoded = decodeURIComponent(withoutFragment)
  } catch {
    decoded = withoutFragment
  }
  const resolved = decoded.startsWith('/') ? posix.normalize(decoded.slice(1)) : posix.normalize(posix.join(folder === '.' ? '' : folder, decoded))
  return resolved === '..' || resolved.startsWith('../') ? undefined : resolved
}

/** The archive entry for a path; EPUBs made on case-insensitive file systems do not always match case. */
function findEntry(archive: ZipArchive, path: string): string | undefined {
  if (archive.has(path)) return path
  const wanted = path.toLowerCase()
  return archive.entries().find((entry) => entry.name.toLowerCase() === wanted)?.name
}

async function readXml(archive: ZipArchive, entryName: string): Promise<XmlDocument> {
  return parseDocument(new TextDecoder().decode(await archive.readEntry(entryName)), { xmlMode: true })
}

/** Elements whose local name (namespace prefix dropped, any case) is `name`. */
function elementsNamed(root: XmlDocument | XmlElement, name: string): XmlElement[] {
  return DomUtils.findAll((element) => localName(element.name) === name, root.children)
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1).toLowerCase()
}
