"""The population (人口基础库) and legal-entity (法人单位基础库) base databases.

History design (see docs/adr/0004): each record has one *current* row (``Person``, ``LegalEntity``) holding
the version in force since ``valid_from``, and a history table (``PersonVersion``, ``LegalEntityVersion``)
of closed versions, each valid over [valid_from, valid_to). Every version records who changed what
(``changed_by``, ``changed_fields``), from which source department, when it was recorded and when it took
effect. ``valid_from`` NULL means "since before the register began" (baseline imports).

Personal data (ID numbers, phone numbers) are SM4-encrypted with an HMAC-SM3 blind index beside them.
Division, community and grid codes are plain code strings (no foreign keys), so that bulk imports insert
prepared rows directly and a division code survives re-generated geography.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liaocheng.core.fields import EncryptedTextField


class PersonStatus(models.TextChoices):
    RESIDENT = "resident", _("在册")
    MOVED_OUT = "moved_out", _("迁出")
    DECEASED = "deceased", _("死亡")


class EntityType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INSTITUTION = "institution", _("事业单位")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    GOVERNMENT = "government", _("机关")
    SOLE_TRADER = "sole_trader", _("个体工商户")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    REVOKED = "revoked", _("吊销")
    DEREGISTERED = "deregistered", _("注销")


class ChangeMeta(models.Model):
    """Who recorded a version, from which department, when, and what changed."""

    version = models.PositiveIntegerField(_("版本"), default=1)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    source_department = models.CharField(_("来源部门"), max_length=64)
    changed_by = models.BigIntegerField(_("操作人"), null=True, blank=True)
    changed_by_label = models.CharField(_("操作人账号"), max_length=150, blank=True, default="")
    recorded_at = models.DateTimeField(_("记录时间"))
    change_kind = models.CharField(_("变更类型"), max_length=20)
    changed_fields = models.JSONField(_("变更字段"), default=list)
    reason = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        abstract = True


class PersonData(models.Model):
    """The effective-dated attributes of a person (the ID number is the key and never changes)."""

    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1)  # GB/T 2261.1
    birth_date = models.DateField(_("出生日期"))
    ethnic = models.CharField(_("民族"), max_length=2, blank=True, default="")  # GB/T 3304
    hukou_division = models.CharField(_("户籍地区划代码"), max_length=12)
    household_number = models.CharField(_("户号"), max_length=20)
    relationship = models.CharField(_("与户主关系"), max_length=2)  # GB/T 4761
    residence_address = models.CharField(_("居住地址"), max_length=200, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"), null=True, blank=True)
    lat = models.FloatField(_("纬度 (GCJ-02)"), null=True, blank=True)
    community_code = models.CharField(_("居住社区/村"), max_length=12, blank=True, default="")
    grid_code = models.CharField(_("居住网格"), max_length=15, blank=True, default="")
    marital_status = models.CharField(_("婚姻状况"), max_length=2, blank=True, default="")  # GB/T 2261.2
    status = models.CharField(_("人口状态"), max_length=10, choices=PersonStatus.choices,
                              default=PersonStatus.RESIDENT)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")

    class Meta:
        abstract = True


class Person(PersonData, ChangeMeta):
    """The current version of a person in the population base database."""

    id_number = EncryptedTextField(_("公民身份号码"))
    id_number_bidx = models.CharField(max_length=64, unique=True)
    phone_bidx = models.CharField(max_length=64, blank=True, default="")
    import_job = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("人口")
        verbose_name_plural = _("人口基础库")
        indexes = [
            models.Index(fields=["hukou_division"], name="person_hukou"),
            models.Index(fields=["community_code"], name="person_community"),
            models.Index(fields=["grid_code"], name="person_grid"),
            models.Index(fields=["phone_bidx"], name="person_phone", condition=~models.Q(phone_bidx="")),
        ]

    def __str__(self) -> str:
        return self.name


class PersonVersion(PersonData, ChangeMeta):
    """A closed version of a person: in force over [valid_from, valid_to)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="versions")
    valid_to = models.DateField(_("失效日期"))

    class Meta:
        ordering = ["person", "version"]
        verbose_name = _("人口历史版本")
        verbose_name_plural = _("人口历史版本")
        constraints = [models.UniqueConstraint(fields=["person", "version"], name="uniq_person_version")]
        indexes = [
            models.Index(fields=["community_code", "valid_to"], name="personver_community"),
            models.Index(fields=["grid_code", "valid_to"], name="personver_grid"),
        ]


class EntityData(models.Model):
    name = models.CharField(_("名称"), max_length=200)
    entity_type = models.CharField(_("单位类型"), max_length=20, choices=EntityType.choices)
    entity_type_derived = models.BooleanField(_("类型由代码推定"), default=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True, default="")
    registered_capital = models.DecimalField(_("注册资本（万元）"), max_digits=18, decimal_places=4, null=True,
                                             blank=True)
    industry_code = models.CharField(_("行业代码"), max_length=5, blank=True, default="")  # GB/T 4754-2017
    address = models.CharField(_("住所"), max_length=200, blank=True, default="")
    lon = models.FloatField(_("经度 (GCJ-02)"), null=True, blank=True)
    lat = models.FloatField(_("纬度 (GCJ-02)"), null=True, blank=True)
    county_code = models.CharField(_("所在县（市、区）"), max_length=6, blank=True, default="")
    community_code = models.CharField(_("所在社区/村"), max_length=12, blank=True, default="")
    grid_code = models.CharField(_("所在网格"), max_length=15, blank=True, default="")
    status = models.CharField(_("登记状态"), max_length=14, choices=EntityStatus.choices,
                              default=EntityStatus.ACTIVE)
    registering_authority = models.CharField(_("登记机关"), max_length=100, blank=True, default="")
    established_date = models.DateField(_("成立日期"), null=True, blank=True)
    changed_date = models.DateField(_("变更日期"), null=True, blank=True)

    class Meta:
        abstract = True


class LegalEntity(EntityData, ChangeMeta):
    """The current version of a legal entity in the legal-entity base database."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    credit_code_warning = models.CharField(_("代码校验提示"), max_length=200, blank=True, default="")
    import_job = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("法人单位")
        verbose_name_plural = _("法人单位基础库")
        indexes = [
            models.Index(fields=["name"], name="entity_name"),
            models.Index(fields=["industry_code"], name="entity_industry"),
            models.Index(fields=["county_code", "name"], name="entity_county"),
            models.Index(fields=["grid_code"], name="entity_grid"),
        ]

    def __str__(self) -> str:
        return self.name


class LegalEntityVersion(EntityData, ChangeMeta):
    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="versions")
    valid_to = models.DateField(_("失效日期"))

    class Meta:
        ordering = ["entity", "version"]
        verbose_name = _("法人单位历史版本")
        verbose_name_plural = _("法人单位历史版本")
        constraints = [models.UniqueConstraint(fields=["entity", "version"], name="uniq_entity_version")]


class ChangeEvent(models.Model):
    """Outbox of changes for the data-exchange centre, written in the transaction of each change.

    One event covers ``seq_first..seq_last`` of its resource's change sequence: a single change has one
    seq; a committed import batch is one event whose ``object_runs`` ([first id, count] pairs) expand to
    one change per record, in id order (so 6 million imported rows do not need 6 million outbox rows).
    """

    resource = models.CharField(max_length=40)
    seq_first = models.BigIntegerField()
    seq_last = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    object_runs = models.JSONField(default=list)
    changed_fields = models.JSONField(default=list)
    effective_date = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["resource", "seq_first"]
        constraints = [models.UniqueConstraint(fields=["resource", "seq_first"], name="uniq_change_seq")]
        indexes = [models.Index(fields=["resource", "seq_last"], name="change_seq_last")]


class ChangeCounter(models.Model):
    """The last seq used per resource; locking its row serialises the allocation of seqs."""

    resource = models.CharField(max_length=40, unique=True)
    seq = models.BigIntegerField(default=0)


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    COMPLETED = "completed", _("已完成")
    COMPLETED_WITH_ERRORS = "completed_with_errors", _("已完成（有错误）")


class ImportJob(models.Model):
    """One import of one file; resumable (committed batches are never written twice)."""

    kind = models.CharField(_("类型"), max_length=20)  # "population" | "entities"
    file_name = models.CharField(_("文件"), max_length=500)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(max_length=8)
    encoding = models.CharField(max_length=20, blank=True, default="")
    batch_size = models.PositiveIntegerField()
    source_department = models.CharField(_("来源部门"), max_length=64)
    acting_user = models.BigIntegerField(null=True)
    acting_label = models.CharField(max_length=150)
    status = models.CharField(_("状态"), max_length=24, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    rows_seen = models.BigIntegerField(default=0)
    rows_committed = models.BigIntegerField(default=0)
    rows_failed = models.BigIntegerField(default=0)  # rows of failed batches (good and bad)
    error_count = models.BigIntegerField(default=0)
    next_row = models.BigIntegerField(default=0)  # data rows processed in order (committed or failed)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")


class BatchStatus(models.TextChoices):
    COMMITTED = "committed", _("已写入")
    FAILED = "failed", _("未写入")


class ImportBatch(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    first_row = models.BigIntegerField()  # file row numbers (the header is row 1)
    last_row = models.BigIntegerField()
    content_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=BatchStatus.choices)
    rows = models.PositiveIntegerField()
    errors = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="uniq_import_batch")]


class ImportRowError(models.Model):
    """A bad row (or a problem with a committed batch) reported by an import."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    batch_index = models.PositiveIntegerField()
    row = models.BigIntegerField(null=True)
    field = models.CharField(max_length=40, blank=True, default="")
    code = models.CharField(max_length=30, default="invalid")
    message_zh = models.CharField(max_length=300)
    message_en = models.CharField(max_length=300)

    class Meta:
        ordering = ["job", "row", "pk"]
        indexes = [models.Index(fields=["job", "batch_index"], name="import_error_batch")]
