; The installers of the real-client suite (tests/clients, docs/clients.md): Inno Setup's own
; Setup replacing files that running apps use. One script, two installers: ISCC /DMode64=1
; makes the one that installs in 64-bit mode. Which files an installer puts into /DIR= is the
; case, picked when Setup runs (/case=NAME), so the whole suite needs two ISCC runs.
;
; The payloads are edition 2 of the suite's apps and DLL (bin/edition2 of each build tree);
; the case has put edition 1 in place and started it before Setup runs. No version checks:
; Setup must replace the file because it is an update, not because it is newer.
#ifndef Mode64
  #define Mode64 0
#endif

[Setup]
AppName=rstrtmgr client test
AppVersion=2
DefaultDirName=C:\rmclients
Uninstallable=no
PrivilegesRequired=lowest
Compression=none
; Inno Setup's defaults, stated because they are what the suite is about.
CloseApplications=yes
RestartApplications=yes
#if Mode64
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
#endif

[Files]
Source: "{#Bin32}\edition2\rsappw.exe"; DestDir: "{app}"; Flags: ignoreversion; Check: IsCase('gui32')
Source: "{#Bin64}\edition2\rsappw.exe"; DestDir: "{app}"; Flags: ignoreversion; Check: IsCase('gui64') or IsCase('refuse64') or IsCase('refuse64_forced')
Source: "{#Bin64}\edition2\rsapplib.dll"; DestDir: "{app}"; Flags: ignoreversion; Check: IsCase('dll64')
Source: "{#Bin64}\edition2\rsapp.exe"; DestDir: "{app}"; Flags: ignoreversion; Check: IsCase('console64') or IsCase('service64')

[Code]
function IsCase(Name: String): Boolean;
begin
  Result := CompareText(ExpandConstant('{param:case}'), Name) = 0;
end;
